"""Reference subscribers: how a robot consumes gesturepilot commands safely."""
