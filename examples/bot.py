#!/usr/bin/env python3
"""A Parley bot in plain Python: the standard library only, no Parley code.

    PARLEY_TOKEN=parley_... python3 bot.py tcp://HOST:PORT --fingerprint SHA256:... < lines
    PARLEY_TOKEN=parley_... python3 bot.py tcp://HOST:PORT --fingerprint SHA256:... --listen

Posts each line of standard input to a Parley TLS room as one message and
waits for the server to acknowledge it; with --listen it also prints what
the others in the room say, one line each ("nick: text"), until stopped.

It logs in with an access token (`parley token create USER` prints one) in
one step, {"t":"auth-token","token":...}, so it needs no SCRAM. The token is
sent only after the server's certificate has been checked:

  --fingerprint SHA256:...     SAFE: the certificate must have this
                               fingerprint (`parley serve` prints it at start,
                               and parley's known_hosts holds it); anything
                               else is refused before the token is sent.
  --insecure-accept-any-cert   UNSAFE: accepts whatever certificate the
                               server shows. Anyone able to intercept the
                               connection gets the token. Only for a server on
                               your own machine, for tests.

Wire format (see PROTOCOL.md): TLS 1.3; each message is a frame of a 4-byte
big-endian length and that many bytes of UTF-8 JSON.

Exit status: 0 done; 2 usage; 3 cannot connect or lost the connection;
4 not let in (bad token, throttled); 5 a line was refused; 6 certificate
mismatch.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import socket
import ssl
import struct
import sys
import threading
import time

EXIT_OK, EXIT_USAGE, EXIT_CONNECT, EXIT_AUTH, EXIT_REJECTED, EXIT_CERT = 0, 2, 3, 4, 5, 6
MAX_FRAME = 64 * 1024
PING_EVERY = 10.0
ACK_TIMEOUT = 30.0
# Control characters a hostile message could use to repaint the terminal.
UNPRINTABLE = re.compile('[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]')


class BotError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def parse_url(url):
    match = re.fullmatch(r'tcp://(\[[^\]]+\]|[^:/]+):(\d{1,5})/?', url)
    if not match:
        raise BotError(EXIT_USAGE, f'expected a room URL tcp://HOST:PORT, got {url!r}')
    host = match.group(1).strip('[]')
    return host, int(match.group(2))


def fingerprint_of(der):
    """SHA256:<base64 without padding> of the DER certificate, as parley shows it."""
    return 'SHA256:' + base64.b64encode(hashlib.sha256(der).digest()).decode().rstrip('=')


class Connection:
    """One TLS connection speaking length-prefixed JSON frames."""

    def __init__(self, host, port, fingerprint, accept_any):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        # Parley servers use self-signed certificates: they are pinned by
        # fingerprint below instead of checked against certificate authorities.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            raw = socket.create_connection((host, port), timeout=10)
            self.sock = context.wrap_socket(raw, server_hostname=host)
        except (OSError, ssl.SSLError) as error:
            raise BotError(EXIT_CONNECT, f'cannot connect to {host}:{port}: {error}') from error
        seen = fingerprint_of(self.sock.getpeercert(binary_form=True))
        if not accept_any and seen != fingerprint:
            self.sock.close()
            raise BotError(EXIT_CERT, f'certificate mismatch: the server shows {seen}, expected {fingerprint}; '
                                      'not sending the token')
        self.fingerprint = seen
        self.sock.settimeout(None)
        self.write_lock = threading.Lock()

    def send(self, message):
        payload = json.dumps(message, ensure_ascii=False).encode('utf-8')
        with self.write_lock:
            self.sock.sendall(struct.pack('>I', len(payload)) + payload)

    def _read_exactly(self, count):
        chunks = []
        while count > 0:
            chunk = self.sock.recv(min(count, 65536))
            if not chunk:
                raise BotError(EXIT_CONNECT, 'the server closed the connection')
            chunks.append(chunk)
            count -= len(chunk)
        return b''.join(chunks)

    def receive(self):
        (length,) = struct.unpack('>I', self._read_exactly(4))
        if length > MAX_FRAME:
            raise BotError(EXIT_CONNECT, f'the server sent a frame of {length} bytes')
        message = json.loads(self._read_exactly(length).decode('utf-8'))
        if not isinstance(message, dict):
            raise BotError(EXIT_CONNECT, 'the server sent something that is not a JSON object')
        return message

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def refused(message, status):
    text = str(message.get('message', 'refused'))
    return BotError(status, f"{message.get('code', 'error')}: {text}")


def log_in(connection, token):
    """auth-mechs, then one auth-token frame, auth-ok, hello, welcome. Returns (user, limits)."""
    greeting = connection.receive()
    if greeting.get('t') != 'auth-mechs':
        raise refused(greeting, EXIT_CONNECT)
    connection.send({'t': 'auth-token', 'token': token})
    answer = connection.receive()
    if answer.get('t') != 'auth-ok':
        raise refused(answer, EXIT_AUTH)
    user = answer['user']
    connection.send({'t': 'hello', 'nick': user, 'v': 1})
    while True:
        message = connection.receive()
        if message.get('t') == 'welcome':
            return user, message.get('limits', {})
        if message.get('t') == 'error':
            raise refused(message, EXIT_AUTH)


class Room:
    """Reads every frame on a thread; the sender waits for its acknowledgements here."""

    def __init__(self, connection, user, listen):
        self.connection = connection
        self.user = user
        self.listen = listen
        self.answers = {}
        self.lost = None
        self.changed = threading.Condition()

    def run_reader(self):
        try:
            while True:
                self.handle(self.connection.receive())
        except (BotError, OSError, ValueError) as error:
            with self.changed:
                self.lost = str(error)
                self.changed.notify_all()

    def handle(self, message):
        kind = message.get('t')
        ref = message.get('ref')
        if kind in ('msg', 'error') and isinstance(ref, str) and ref.startswith('bot-'):
            with self.changed:
                self.answers[ref] = message
                self.changed.notify_all()
        elif kind == 'error':
            print(f"bot.py: the server says: {message.get('message')}", file=sys.stderr, flush=True)
        if self.listen and kind == 'msg' and message.get('from') != self.user:
            sender = UNPRINTABLE.sub('?', str(message.get('from', '?')))
            text = UNPRINTABLE.sub('?', str(message.get('text', '')))
            line = f'* {sender} {text}' if message.get('action') else f'{sender}: {text}'
            print(line, flush=True)
        if kind == 'bye':
            raise BotError(EXIT_CONNECT, f"the server said goodbye: {message.get('reason')}")

    def wait_answer(self, ref):
        deadline = time.monotonic() + ACK_TIMEOUT
        with self.changed:
            while ref not in self.answers:
                if self.lost is not None:
                    raise BotError(EXIT_CONNECT, f'lost the connection: {self.lost}')
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BotError(EXIT_CONNECT, 'no acknowledgement from the server')
                self.changed.wait(left)
            return self.answers.pop(ref)


class Pacer:
    """Stays under the room's announced rate (a little stricter, like parley send)."""

    def __init__(self, limits):
        rate = float(limits.get('ratePerSecond') or 5) * 0.9
        self.interval = 1.0 / rate
        self.burst = max(1, int(limits.get('burst') or 10) - 1)
        self.tokens = float(self.burst)
        self.last = time.monotonic()

    def take(self):
        while True:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.last) / self.interval)
            self.last = now
            if self.tokens >= 1:
                self.tokens -= 1
                return
            time.sleep((1 - self.tokens) * self.interval)

    def slow_down(self, retry_after_ms):
        """Refused anyway: the server's retry_after_ms is at least its real interval."""
        self.tokens = 0
        self.last = time.monotonic()
        self.interval = max(self.interval * 1.5, (retry_after_ms or 0) / 1000)


def post_lines(room, pacer, lines):
    """Sends each non-blank line, waiting for its acknowledgement; returns how many were refused."""
    rejected = 0
    for number, line in enumerate(lines, start=1):
        text = line.rstrip('\r\n')
        if not text.strip():
            continue
        ref = f'bot-{number}'
        for _attempt in range(12):
            pacer.take()
            room.connection.send({'t': 'say', 'ref': ref, 'text': text})
            answer = room.wait_answer(ref)
            if answer.get('t') == 'msg':
                break
            if answer.get('code') == 'rate-limited':
                pacer.slow_down(answer.get('retry_after_ms'))
                continue
            print(f"bot.py: line {number} not sent: {answer.get('message')}", file=sys.stderr, flush=True)
            rejected += 1
            break
        else:
            raise BotError(EXIT_CONNECT, 'the room keeps refusing messages as too fast')
    return rejected


def keep_alive(room, stop):
    while not stop.wait(PING_EVERY):
        try:
            room.connection.send({'t': 'ping', 'ts': int(time.time() * 1000)})
        except OSError:
            return


def main(argv):
    parser = argparse.ArgumentParser(description='Post standard input to a Parley room; --listen prints it too.')
    parser.add_argument('url', help='the room, tcp://HOST:PORT')
    trust = parser.add_mutually_exclusive_group()
    trust.add_argument('--fingerprint', help="the server certificate's SHA256:... fingerprint (safe)")
    trust.add_argument('--insecure-accept-any-cert', action='store_true',
                       help='accept any certificate: a man in the middle gets the token (unsafe)')
    parser.add_argument('--listen', action='store_true',
                        help="print what others say (nick: text) until interrupted or the server closes")
    args = parser.parse_args(argv)
    try:
        host, port = parse_url(args.url)
        token = os.environ.get('PARLEY_TOKEN', '')
        if not token:
            raise BotError(EXIT_USAGE, 'set PARLEY_TOKEN to an access token (parley token create USER)')
        if not args.fingerprint and not args.insecure_accept_any_cert:
            raise BotError(EXIT_USAGE, 'give --fingerprint SHA256:... (or, unsafely, --insecure-accept-any-cert)')
        connection = Connection(host, port, args.fingerprint, args.insecure_accept_any_cert)
        if args.insecure_accept_any_cert:
            print(f'bot.py: WARNING: accepting the certificate {connection.fingerprint} unchecked '
                  '(--insecure-accept-any-cert)', file=sys.stderr, flush=True)
        user, limits = log_in(connection, token)
        print(f'bot.py: joined {args.url} as {user}', file=sys.stderr, flush=True)
        room = Room(connection, user, args.listen)
        threading.Thread(target=room.run_reader, daemon=True).start()
        stop = threading.Event()
        threading.Thread(target=keep_alive, args=(room, stop), daemon=True).start()
        rejected = post_lines(room, Pacer(limits), sys.stdin)
        if args.listen:
            with room.changed:
                while room.lost is None:
                    room.changed.wait()
            raise BotError(EXIT_CONNECT, f'lost the connection: {room.lost}')
        stop.set()
        connection.send({'t': 'leave'})
        connection.close()
        return EXIT_REJECTED if rejected else EXIT_OK
    except BotError as error:
        print(f'bot.py: {error}', file=sys.stderr, flush=True)
        return error.status
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
