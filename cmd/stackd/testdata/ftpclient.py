#!/usr/bin/env python3
"""Scripted ftplib clients of the FTP end-to-end tests (ftp_e2e_test.go).

usage: ftpclient.py hold   HOST PORT USER PASSWORD
       ftpclient.py seed   HOST PORT USER PASSWORD DIR COUNT [--pause S] [--limit S]
       ftpclient.py upload HOST PORT USER PASSWORD PATH [--chunk N] [--limit S]

hold:   log in, print "SESSION <local address>:<port>", keep the session
        until stdin ends, then QUIT and print "QUIT <reply>".
seed:   one session downloads DIR/f00000.dat .. f<COUNT-1>.dat over PASV,
        like the seed's client moving many small files. A 425 to PASV is
        counted (the first one prints "REFUSED" at once), the client pauses
        and asks again. Ends with one line "RESULT <json>".
upload: STOR PATH slowly (a chunk every 20 ms) until the server ends the
        transfer; prints "SENDING" after the first chunk, then every reply
        it gets as "REPLY <text>" until the control connection closes.
Every loop is bounded by --limit seconds.
"""
import argparse
import ftplib
import json
import socket
import sys
import time


def login(a):
    ftp = ftplib.FTP()
    ftp.connect(a.host, a.port, timeout=20)
    ftp.login(a.user, a.password)
    return ftp


def hold(a):
    ftp = login(a)
    me = ftp.sock.getsockname()
    print("SESSION %s:%d" % (me[0], me[1]), flush=True)
    sys.stdin.read()
    print("QUIT " + ftp.quit(), flush=True)


def seed(a):
    ftp = login(a)
    ftp.voidcmd("TYPE I")
    ftp.cwd(a.dir)
    refused = 0
    nbytes = 0
    start = time.monotonic()
    deadline = start + a.limit
    for i in range(a.count):
        while True:
            if time.monotonic() > deadline:
                print("RESULT " + json.dumps({"error": "time limit", "transfers": i, "refused": refused}), flush=True)
                sys.exit(1)
            try:
                host, port = ftp.makepasv()
                break
            except ftplib.error_temp as e:
                if not str(e).startswith("425"):
                    raise
                refused += 1
                if refused == 1:
                    print("REFUSED " + str(e), flush=True)
                time.sleep(a.pause)
        s = socket.create_connection((host, port), timeout=20)
        ftp.sendcmd("RETR f%05d.dat" % i)
        while True:
            b = s.recv(65536)
            if not b:
                break
            nbytes += len(b)
        s.close()
        ftp.voidresp()
    elapsed = time.monotonic() - start
    ftp.voidcmd("NOOP")  # the session lived through every 425
    ftp.quit()
    print("RESULT " + json.dumps({"transfers": a.count, "refused": refused, "seconds": elapsed, "bytes": nbytes}), flush=True)


def upload(a):
    ftp = login(a)
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("STOR " + a.path)
    chunk = b"N" * a.chunk
    deadline = time.monotonic() + a.limit
    first = True
    try:
        while time.monotonic() < deadline:
            conn.sendall(chunk)
            if first:
                print("SENDING", flush=True)
                first = False
            time.sleep(0.02)
    except OSError as e:
        print("DATA " + str(e), flush=True)
    conn.close()
    ftp.sock.settimeout(10)
    while True:
        try:
            line = ftp.getline()
        except (EOFError, OSError):
            break
        if not line:
            break
        print("REPLY " + line, flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["hold", "seed", "upload"])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("user")
    p.add_argument("password")
    p.add_argument("rest", nargs="*")
    p.add_argument("--pause", type=float, default=0.005)
    p.add_argument("--limit", type=float, default=60)
    p.add_argument("--chunk", type=int, default=16384)
    a = p.parse_args()
    if a.mode == "seed":
        a.dir, a.count = a.rest[0], int(a.rest[1])
        seed(a)
    elif a.mode == "upload":
        a.path = a.rest[0]
        upload(a)
    else:
        hold(a)


if __name__ == "__main__":
    main()
