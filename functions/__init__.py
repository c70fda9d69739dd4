"""The Cloud Run functions; each folder is one function, its main.py the entry module."""
