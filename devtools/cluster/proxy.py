"""A tiny reverse proxy for `make cluster`: what nginx does in front of the web hosts
(deploy/nginx/opsportal.conf), reduced to what the topology needs.

Round robin over the web hosts, one request per connection (`Connection: close` both
ways), and the headers our nginx site sets: X-Forwarded-For / -Proto / -Host and
X-Request-Start (`t=<seconds>`, when the request reached the proxy: a forced status
request queued behind busy sync workers is still answered by the probe run that started
after it arrived). The body is passed through as it comes: the proxy never buffers a
whole upload or answer. Development and tests only.
"""

import asyncio
import itertools
import threading
import time

HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"te",
    b"trailer",
    b"upgrade",
    b"x-forwarded-for",
    b"x-forwarded-proto",
    b"x-forwarded-host",
    b"x-request-start",
}
MAX_HEAD = 64 * 1024


class Proxy:
    def __init__(self, backends: list[tuple[str, int]], *, host: str = "127.0.0.1", port: int = 0):
        self.backends = itertools.cycle(backends)
        self.host, self.port = host, port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="cluster-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "Proxy":
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, self.host, self.port, backlog=512, limit=MAX_HEAD)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            arrived = time.time()
            request_line, *lines = head[:-4].split(b"\r\n")
            headers = [line.split(b":", 1) for line in lines if b":" in line]
            kept = [
                (k.strip(), v.strip()) for k, v in headers if k.strip().lower() not in HOP_BY_HOP
            ]
            host = next((v for k, v in kept if k.lower() == b"host"), b"")
            length = int(next((v for k, v in kept if k.lower() == b"content-length"), b"0"))
            peer = writer.get_extra_info("peername")[0].encode()
            kept += [
                (b"X-Forwarded-For", peer),
                (b"X-Forwarded-Proto", b"http"),
                (b"X-Forwarded-Host", host),
                (b"X-Request-Start", f"t={arrived:.3f}".encode()),
                (b"Connection", b"close"),
            ]
            backend_reader, backend_writer = await asyncio.open_connection(*next(self.backends))
            backend_writer.write(request_line + b"\r\n")
            backend_writer.write(b"".join(k + b": " + v + b"\r\n" for k, v in kept) + b"\r\n")
            while length > 0:
                chunk = await reader.read(min(length, 65536))
                if not chunk:
                    break
                backend_writer.write(chunk)
                length -= len(chunk)
            await backend_writer.drain()
            while chunk := await backend_reader.read(65536):
                writer.write(chunk)
                await writer.drain()
            backend_writer.close()
        except (
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ConnectionError,
            ValueError,
        ):
            writer.write(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
        finally:
            try:
                await writer.drain()
            except ConnectionError:
                pass
            writer.close()
