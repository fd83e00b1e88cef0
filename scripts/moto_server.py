"""A moto server (DynamoDB, Secrets Manager, STS: scripts/requirements.txt installs what
they need; a service that needs more answers an error) on loopback unless --host
says otherwise, single-threaded.

Single-threaded because moto's threaded server does not make TransactWriteItems atomic
under concurrent requests; DynamoDB does, and the tests rely on it.

    python scripts/moto_server.py [--host ADDRESS] [--port N] [--exit-on-stdin-eof]

Prints "PORT <n>" once listening. With --exit-on-stdin-eof it stops when its standard
input closes, so a test process that dies never leaves a server behind.
"""

import argparse
import os
import socket
import sys
import threading

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    args = parser.parse_args()

    app = DomainDispatcherApplication(create_backend_app)
    # http.server names the server socket.getfqdn(host): for an address /etc/hosts does not
    # name (the Docker bridge's) that is a reverse DNS query off the machine. The name only
    # labels the server: the address will do.
    socket.getfqdn = lambda name="": name or "localhost"
    server = make_server(args.host, args.port, app, threaded=False)
    print(f"PORT {server.socket.getsockname()[1]}", flush=True)

    if args.exit_on_stdin_eof:
        def watch() -> None:
            sys.stdin.read()
            os._exit(0)

        threading.Thread(target=watch, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
