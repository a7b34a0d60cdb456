#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that delays every chunk, in each direction, by a random
MIN..MAX ms, keeping the order within each connection: a link with jitter, for the
safety-margin benchmark where tc netem is not available. Debian's python3 only.

  delay_proxy.py PORT_FILE TARGET_PORT MIN_MS MAX_MS
Listens on a free port, writes it to PORT_FILE, forwards to 127.0.0.1:TARGET_PORT.
"""

import os
import queue
import random
import socket
import sys
import threading
import time


def pump(src, dst, low, high):
    """Reads chunks from src; each leaves for dst a random delay after it arrived, never
    before the chunk ahead of it."""
    pending = queue.Queue()

    def writer():
        while True:
            release, data = pending.get()
            wait = release - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if data is None:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            try:
                dst.sendall(data)
            except OSError:
                return

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    last = 0.0
    while True:
        try:
            data = src.recv(65536)
        except OSError:
            data = b""
        last = max(last, time.monotonic() + random.uniform(low, high) / 1000.0)
        pending.put((last, data or None))
        if not data:
            break
    thread.join()


def serve(client, target_port, low, high):
    try:
        upstream = socket.create_connection(("127.0.0.1", target_port))
    except OSError:
        client.close()
        return
    for s in (client, upstream):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    a = threading.Thread(target=pump, args=(client, upstream, low, high), daemon=True)
    b = threading.Thread(target=pump, args=(upstream, client, low, high), daemon=True)
    a.start()
    b.start()
    a.join()
    b.join()
    client.close()
    upstream.close()


def main(argv):
    port_file, target_port, low, high = argv[1], int(argv[2]), float(argv[3]), float(argv[4])
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    with open(port_file + ".tmp", "w", encoding="ascii") as f:
        f.write(f"{listener.getsockname()[1]}\n")
    os.rename(port_file + ".tmp", port_file)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, target_port, low, high), daemon=True).start()


if __name__ == "__main__":
    main(sys.argv)
