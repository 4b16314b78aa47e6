"""Hubbub's load generator: sign-ups, WebSocket streams and sends against a server it starts."""
