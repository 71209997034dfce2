"""A TCP proxy that breaks each distinct request once, the way a mountain link does.

The first time it sees a request (same method, path and body) it cuts the
connection: either half-way through sending the request body to the server, or
after the server has answered but before the phone gets the answer. The second
time, the request goes through. One request per connection (the phone sends
``Connection: close``).
"""

import hashlib
import socket
import threading


class FlakyProxy:
    def __init__(self, upstream_port: int):
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.seen: set[str] = set()
        self.cuts = {"request": 0, "response": 0}
        self.passed = 0
        self._lock = threading.Lock()
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        self.listener.close()

    def _serve(self):
        while not self._stop:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket):
        with client:
            head, body = _read_request(client)
            if head is None:
                return
            first_line = head.split(b"\r\n", 1)[0]
            key = hashlib.sha256(first_line + b"\n" + body).hexdigest()
            with self._lock:
                fresh = key not in self.seen
                self.seen.add(key)
                mode = None
                if fresh:
                    # Half the requests of each kind fail each way, by the request's own
                    # hash (alternating would tie the mode to the phone's call pattern).
                    mode = "request" if int(key[0], 16) < 8 else "response"
                    self.cuts[mode] += 1
                else:
                    self.passed += 1
            with socket.create_connection(self.upstream) as server:
                if mode == "request":
                    server.sendall(head + body[: len(body) // 2])
                    # The server sees a short body. The phone hears of the break only
                    # once the server has dealt with it, as when a phone's own timeout
                    # fires: otherwise a busy machine lets the phone's retry overtake
                    # the broken request, and what is tested depends on the load.
                    server.shutdown(socket.SHUT_WR)
                    server.settimeout(30)
                    try:
                        _read_all(server)
                    except OSError:
                        pass
                    return
                server.sendall(head + body)
                response = _read_all(server)
                if mode == "response":
                    client.sendall(response[: min(len(response) // 2, 20)])
                    return  # the server did the work; the phone never hears of it
                client.sendall(response)


def _read_request(sock: socket.socket) -> tuple[bytes | None, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    head += b"\r\n\r\n"
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
