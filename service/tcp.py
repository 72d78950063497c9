"""The listening socket of `huifang serve --workers N`, labelled as the TCP socket it is.

uvicorn's multi-process mode makes it with `socket.socket(family)`, protocol 0. Each worker's connections,
accepted from it, inherit that 0, and asyncio sets TCP_NODELAY only on a socket whose protocol says TCP. So
a response's headers and body, written apart, waited for the client's delayed ACK: every call through
`--workers 2` took 40 ms longer than through one worker (11-15 ms against 52-56 ms a call, one client).
A module of its own: the config is pickled to each spawned worker, and uvicorn loads only when serving.
"""
from __future__ import annotations

import socket

import uvicorn


class TCPConfig(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        return sock
