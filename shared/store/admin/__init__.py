"""The control center's reads over a table family that goes beyond what the apps need
(sessions with both sides and their full assignment history)."""
