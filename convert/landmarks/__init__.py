"""The landmark classifier on the workstation: hand points in, a verified int8 MLP out."""
