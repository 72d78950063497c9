"""The listening sockets of `huifang serve --workers N`, labelled as the TCP sockets they are, one per worker.

uvicorn's multi-process mode makes one socket with `socket.socket(family)`, protocol 0, and all workers accept
from it. Two things went wrong with that:
- Each worker's connections, accepted from it, inherit that 0, and asyncio sets TCP_NODELAY only on a socket
  whose protocol says TCP. So a response's headers and body, written apart, waited for the client's delayed
  ACK: every call through `--workers 2` took 40 ms longer than through one worker.
- A worker woken by new connections accepts every one that is waiting. Eight clients of one integration that
  connect at once all landed on the first worker awake, and the others idled: 8 clients on 2 workers got
  120-190 commands/s with the machine 55 % busy, against 280-300 when they were spread.
So each worker listens on its own socket, all bound to the one port with SO_REUSEPORT: the kernel spreads new
connections over them. A port some other server holds is refused first, as a plain bind would be, so a second
`huifang serve` on the same port fails instead of quietly sharing its callers with the first.
A module of its own: the config is pickled to each spawned worker, and uvicorn loads only when serving.
"""
from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess, Process


class TCPConfig(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        return _tcp(super().bind_socket())

    def bind_sockets(self, n: int) -> list[socket.socket]:
        """n listening sockets on the configured host and port (one, as uvicorn makes it, where the platform
        has no SO_REUSEPORT). OSError: the port is taken."""
        if n < 2 or not hasattr(socket, "SO_REUSEPORT") or self.uds is not None or self.fd is not None:
            return [self.bind_socket()]
        family = socket.AF_INET6 if self.host and ":" in self.host else socket.AF_INET
        port = self.port
        if port:  # the port held by another server: refused as uvicorn's own bind refuses it
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((self.host, port))
        out: list[socket.socket] = []
        try:
            for _ in range(n):
                sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
                out.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                sock.bind((self.host, port))
                port = sock.getsockname()[1]  # --port 0: the others join the port the first was given
                sock.set_inheritable(True)
        except BaseException:
            for sock in out:
                sock.close()
            raise
        return out


def _tcp(sock: socket.socket) -> socket.socket:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
        return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    return sock


class Spread(Multiprocess):
    """uvicorn's supervisor with each first worker on its own socket. A worker restarted after a crash listens
    on all of them (uvicorn's restart knows no slot): connections the kernel gave the dead worker's socket wait
    in it, held open here, and are served."""

    def init_processes(self) -> None:
        if len(self.sockets) != self.processes_num:
            super().init_processes()
            return
        for sock in self.sockets:
            process = Process(self.config, [sock])
            process.start()
            self.processes.append(process)
