"""Listening sockets for the bot's and the local forum's web servers."""

from __future__ import annotations

import socket

from bot.errors import UserError


def listen_socket(
    host: str, port: int, *, failure: str = "cannot listen", nodelay: bool = False
) -> socket.socket:
    """A TCP socket bound to host:port (IPv6 when the host is one), taken before any
    slow start-up so that a port in use fails at once; else UserError
    `"<failure> on host:port: <reason>"`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if nodelay:
        # Accepted connections inherit it: small JSON responses go out at once.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(f"{failure} on {host}:{port}: {exc.strerror or exc}") from None
    return sock
