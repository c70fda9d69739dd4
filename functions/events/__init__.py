"""The events function: the apps' server-sent event streams, served on asyncio."""
