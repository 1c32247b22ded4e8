#!/usr/bin/env python3
"""Black-box conformance check of an FTP daemon: the exact reply code of
every command and of every bad input this project's daemon promises
(docs/ftp.md). One line per check, then "N passed, M failed"; exit status 1
on any failure.

usage: conformance.py HOST PORT USER PASSWORD [--rw /PUB] [--ro /RO]
                      [--anonymous no|read|write] [--active yes|no]

USER must be able to write in --rw; --ro is a READONLY=YES public
directory (or "" to skip those checks). Run it against the daemon of the
ftpd tests or against the real stack.
"""
import argparse
import io
import re
import socket
import sys
import time
import ftplib

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS %s" % name)
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))


def raw(ftp, line):
    """Send a command, return (code, text) of its reply, whatever the code."""
    ftp.putcmd(line)
    text = ftp.getmultiline()
    return int(text[:3]), text


def expect(ftp, line, code, name=None, match=None):
    got, text = raw(ftp, line)
    ok = got == code and (match is None or re.search(match, text))
    check(name or line, ok, "got %r, want %d%s" % (text, code, "" if match is None else " matching %r" % match))
    return text


def data_cmd(ftp, line, code, data=None, name=None, passive="EPSV"):
    """A transfer command over EPSV/PASV: returns (final code text, bytes received)."""
    host = ftp.sock.getpeername()[0]
    if passive == "EPSV":
        c, text = raw(ftp, "EPSV")
        if c != 229:
            check(name or line, False, "EPSV gave %r" % text)
            return None, b""
        port = int(re.search(r"\|\|\|(\d+)\|", text).group(1))
    else:
        c, text = raw(ftp, "PASV")
        if c != 227:
            check(name or line, False, "PASV gave %r" % text)
            return None, b""
        nums = [int(x) for x in re.search(r"\((\d+,\d+,\d+,\d+,\d+,\d+)\)", text).group(1).split(",")]
        port = nums[4] * 256 + nums[5]
    s = socket.create_connection((host, port), timeout=10)
    c, text = raw(ftp, line)
    got = b""
    if c in (125, 150):
        if data is not None:
            s.sendall(data)
        else:
            chunks = []
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
            got = b"".join(chunks)
        s.close()
        text = ftp.getmultiline()
        c = int(text[:3])
    else:
        s.close()
    check(name or line, c == code, "got %r, want %d" % (text, code))
    return text, got


def active_data(ftp, ls):
    """After a 150 in active mode: accept the server's data connection, read
    it to the end, and give (ok, final reply)."""
    try:
        ds, _ = ls.accept()
    except OSError as e:
        return False, "no data connection (%s), then %r" % (e, ftp.getmultiline())
    while ds.recv(65536):
        pass
    ds.close()
    text = ftp.getmultiline()
    return text.startswith("226"), text


def connect(a):
    ftp = ftplib.FTP()
    ftp.connect(a.host, a.port, timeout=20)
    return ftp


def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("user")
    p.add_argument("password")
    p.add_argument("--rw", default="/PUB")
    p.add_argument("--ro", default="/RO")
    p.add_argument("--anonymous", default="no", choices=["no", "read", "write"])
    p.add_argument("--active", default="yes", choices=["yes", "no"])
    a = p.parse_args()

    # --- Before login.
    ftp = ftplib.FTP()
    banner = ftp.connect(a.host, a.port, timeout=20)
    check("banner 220", banner.startswith("220"), banner)
    expect(ftp, "SYST", 215, match=r"^215 UNIX")
    expect(ftp, "NOOP", 200)
    expect(ftp, "FEAT", 211, match=r"MLST type\*;size\*;modify\*;perm\*;unique\*;")
    expect(ftp, "HELP", 214)
    expect(ftp, "PWD", 530, name="PWD before login")
    expect(ftp, "PASV", 530, name="PASV before login")
    expect(ftp, "PASS x", 503, name="PASS without USER")
    if a.anonymous == "no":
        expect(ftp, "USER anonymous", 530, name="anonymous refused")
        expect(ftp, "USER ftp", 530, name="ftp refused")
    expect(ftp, "USER", 501, name="USER without argument")
    expect(ftp, "USER " + a.user, 331)
    expect(ftp, "PASS wrong-" + a.password, 530, name="wrong password")
    expect(ftp, "USER " + a.user.lower(), 331, name="USER in lower case")
    expect(ftp, "PASS " + a.password, 230)
    expect(ftp, "PASS " + a.password, 503, name="PASS when logged in")
    expect(ftp, "ACCT x", 202)

    # --- Syntax.
    expect(ftp, "XYZZY", 500, name="unknown command")
    expect(ftp, "CWD", 501, name="CWD without argument")
    expect(ftp, "PWD extra", 501, name="PWD with an argument")
    expect(ftp, "SMNT /x", 502)
    expect(ftp, "REIN", 502)
    for t, c in [("A", 200), ("A N", 200), ("E", 200), ("E N", 200), ("I", 200), ("L 8", 200),
                 ("L 7", 504), ("A T", 504), ("A C", 504), ("X", 504), ("L x", 501), ("I X", 501), ("A Q", 501)]:
        expect(ftp, "TYPE " + t, c)
    expect(ftp, "TYPE", 501, name="TYPE without argument")
    for m, c in [("S", 200), ("B", 504), ("C", 504), ("X", 501)]:
        expect(ftp, "MODE " + m, c)
    for s_, c in [("F", 200), ("R", 504), ("P", 504), ("X", 501)]:
        expect(ftp, "STRU " + s_, c)
    expect(ftp, "ALLO 100", 202)
    expect(ftp, "OPTS UTF8 ON", 200)
    expect(ftp, "OPTS MLST type;size;modify;perm;unique;", 200)
    expect(ftp, "OPTS FOO BAR", 501)
    expect(ftp, "HELP RETR", 214)
    expect(ftp, "HELP NOSUCH", 501)
    expect(ftp, "SITE HELP", 214)
    expect(ftp, "SITE IDLE 60", 200)
    expect(ftp, "SITE IDLE 1", 501)
    expect(ftp, "SITE NOSUCH", 501)
    expect(ftp, "STAT", 211)
    expect(ftp, "ABOR", 225, name="ABOR with no transfer")

    # --- Directories and confinement.
    expect(ftp, "CWD " + a.rw, 250)
    expect(ftp, "PWD", 257, match=r'^257 "%s"' % re.escape(a.rw))
    expect(ftp, "CDUP", 200)
    expect(ftp, "CWD ../../../..", 250, name="CWD above the root stops there")
    expect(ftp, "PWD", 257, name="PWD at the root", match=r'^257 "/"')
    expect(ftp, "CWD /no-such-dir", 550)
    expect(ftp, "MKD /NEWPUBLIC", 550, name="MKD in the virtual root")
    expect(ftp, "RETR ../../../../etc/passwd", 550, name="path escape with ..")
    expect(ftp, "RETR /etc/passwd", 550, name="absolute host path")
    expect(ftp, "SIZE " + a.rw + "/../../etc/passwd", 550, name="escape inside a path")
    work = a.rw + "/conf%d" % int(time.time() * 1000 % 100000000)
    expect(ftp, "MKD " + work, 257)
    expect(ftp, "MKD " + work, 550, name="MKD of an existing directory")
    expect(ftp, "CWD " + work, 250)
    expect(ftp, "XPWD", 257)

    # --- Transfers.
    expect(ftp, "TYPE I", 200)
    expect(ftp, "RETR nothing.txt", 550, name="RETR of a missing file")
    expect(ftp, "RETR a.txt", 550, name="RETR without data setup (missing file first)")
    content = b"0123456789\n" * 100
    data_cmd(ftp, "STOR a.txt", 226, data=content, name="STOR over EPSV")
    expect(ftp, "SIZE a.txt", 213, match=r"^213 %d$" % len(content))
    expect(ftp, "RETR a.txt", 425, name="RETR without PASV/PORT")
    _, got = data_cmd(ftp, "RETR a.txt", 226, name="RETR over EPSV")
    check("RETR content", got == content)
    _, got = data_cmd(ftp, "RETR a.txt", 226, name="RETR over PASV", passive="PASV")
    check("RETR content over PASV", got == content)
    expect(ftp, "REST 5", 350)
    _, got = data_cmd(ftp, "RETR a.txt", 226, name="REST then RETR")
    check("REST content", got == content[5:])
    expect(ftp, "REST 100000", 350)
    data_cmd(ftp, "RETR a.txt", 554, name="REST beyond the end then RETR")
    expect(ftp, "REST abc", 501)
    expect(ftp, "REST -1", 501)
    data_cmd(ftp, "APPE a.txt", 226, data=b"tail\n", name="APPE")
    expect(ftp, "SIZE a.txt", 213, name="SIZE after APPE", match=r"^213 %d$" % (len(content) + 5))
    expect(ftp, "REST 4", 350)
    data_cmd(ftp, "STOR a.txt", 226, data=b"XYZ", name="REST then STOR (resume)")
    _, got = data_cmd(ftp, "RETR a.txt", 226, name="RETR after resume")
    check("resumed content", got == content[:4] + b"XYZ", repr(got[:20]))
    text, _ = data_cmd(ftp, "STOU", 226, data=b"unique\n", name="STOU")
    expect(ftp, "TYPE A", 200)
    expect(ftp, "SIZE a.txt", 550, name="SIZE in TYPE A")
    data_cmd(ftp, "STOR t.txt", 226, data=b"one\r\ntwo\r\n", name="STOR in TYPE A")
    expect(ftp, "TYPE I", 200)
    _, got = data_cmd(ftp, "RETR t.txt", 226, name="RETR in TYPE I after TYPE A upload")
    check("TYPE A stores LF", got == b"one\ntwo\n", repr(got))
    expect(ftp, "TYPE E", 200)
    _, got = data_cmd(ftp, "RETR t.txt", 226, name="RETR in TYPE E")
    check("TYPE E sends EBCDIC", got == "one\x85two\x85".encode("cp037"), repr(got))
    data_cmd(ftp, "STOR e.txt", 226, data="HELLO\x85".encode("cp037"), name="STOR in TYPE E")
    expect(ftp, "TYPE I", 200)
    _, got = data_cmd(ftp, "RETR e.txt", 226, name="RETR of an EBCDIC upload")
    check("TYPE E stores text", got == b"HELLO\n", repr(got))
    expect(ftp, "MDTM a.txt", 213, match=r"^213 \d{14}$")
    expect(ftp, "MDTM nothing.txt", 550)
    expect(ftp, "SIZE .", 550, name="SIZE of a directory")

    # --- Listings.
    _, got = data_cmd(ftp, "LIST", 226, name="LIST")
    check("LIST shows a.txt", b"a.txt" in got)
    _, got = data_cmd(ftp, "LIST -la", 226, name="LIST -la")
    _, got = data_cmd(ftp, "NLST", 226, name="NLST")
    check("NLST shows a.txt", b"a.txt\r\n" in got, repr(got))
    data_cmd(ftp, "LIST no-such-dir", 450, name="LIST of a missing path")
    _, got = data_cmd(ftp, "MLSD", 226, name="MLSD")
    check("MLSD facts", re.search(rb"type=file;size=\d+;modify=\d{14};perm=[a-z]+;unique=[0-9a-fg]+; a.txt\r\n", got) is not None, repr(got[:200]))
    check("MLSD cdir", b"type=cdir;" in got)
    expect(ftp, "MLSD a.txt", 501, name="MLSD of a file")
    expect(ftp, "MLST a.txt", 250, match=r"type=file;size=\d+;")
    expect(ftp, "MLST nothing.txt", 550)
    expect(ftp, "STAT a.txt", 213)

    # --- Renames and deletes.
    expect(ftp, "RNTO b.txt", 503, name="RNTO without RNFR")
    expect(ftp, "RNFR nothing.txt", 550)
    expect(ftp, "RNFR a.txt", 350)
    expect(ftp, "RNTO b.txt", 250)
    expect(ftp, "RNFR b.txt", 350)
    expect(ftp, "NOOP", 200)
    expect(ftp, "RNTO c.txt", 503, name="RNTO not straight after RNFR")
    expect(ftp, "MKD sub", 257)
    data_cmd(ftp, "STOR sub/x", 226, data=b"x")
    expect(ftp, "RETR sub", 550, name="RETR of a directory")
    expect(ftp, "DELE sub", 550, name="DELE of a directory")
    expect(ftp, "RMD sub", 550, name="RMD of a non-empty directory")
    expect(ftp, "RMD b.txt", 550, name="RMD of a file")
    expect(ftp, "DELE sub/x", 250)
    expect(ftp, "XRMD sub", 250)
    expect(ftp, "DELE nothing.txt", 550)
    expect(ftp, "STOR /x.txt", 553, name="STOR in the virtual root")

    # --- Read-only places.
    if a.ro:
        expect(ftp, "MKD %s/newdir" % a.ro, 550, name="MKD in a read-only file")
        expect(ftp, "STOR %s/new.txt" % a.ro, 550, name="STOR in a read-only file")
        expect(ftp, "DELE %s/readme.txt" % a.ro, 550, name="DELE in a read-only file")
        expect(ftp, "RNFR %s/readme.txt" % a.ro, 550, name="RNFR in a read-only file")

    # --- Active mode and bounce protection.
    me = ftp.sock.getsockname()[0]
    h = me.replace(".", ",")
    if a.active == "yes":
        expect(ftp, "PORT 10,0,0,1,200,10", 501, name="PORT to another host")
        expect(ftp, "PORT %s,0,80" % h, 501, name="PORT to a port below 1024")
        expect(ftp, "PORT 1,2,3", 501, name="PORT syntax")
        expect(ftp, "PORT %s,300,1" % h, 501, name="PORT byte out of range")
        expect(ftp, "EPRT |1|10.0.0.1|5000|", 501, name="EPRT to another host")
        expect(ftp, "EPRT |1|%s|80|" % me, 501, name="EPRT to a port below 1024")
        expect(ftp, "EPRT |3|%s|5000|" % me, 522, name="EPRT unknown protocol")
        expect(ftp, "EPRT garbage", 501, name="EPRT syntax")
        ls = socket.socket()
        ls.bind((me, 0))
        ls.listen(1)
        ls.settimeout(20)  # a server that fails after 150 must not hang the check
        port = ls.getsockname()[1]
        expect(ftp, "PORT %s,%d,%d" % (h, port >> 8, port & 255), 200)
        c, text = raw(ftp, "LIST")
        ok = c == 150
        if ok:
            ok, text = active_data(ftp, ls)
        check("LIST over PORT", ok, text)
        port = ls.getsockname()[1]
        expect(ftp, "EPRT |1|%s|%d|" % (me, port), 200)
        c, text = raw(ftp, "NLST")
        ok = c == 150
        if ok:
            ok, text = active_data(ftp, ls)
        check("NLST over EPRT", ok, text)
        ls.close()
    else:
        expect(ftp, "PORT %s,200,10" % h, 502, name="PORT with ACTIVE=NO")
        expect(ftp, "EPRT |1|%s|5000|" % me, 502, name="EPRT with ACTIVE=NO")
    expect(ftp, "EPSV 2", 522, name="EPSV for the other family")
    expect(ftp, "EPSV x", 501, name="EPSV syntax")

    # --- ABOR during a transfer (sent as urgent data by ftplib).
    big = b"\0" * (16 << 20)
    data_cmd(ftp, "STOR big.bin", 226, data=big, name="STOR 16 MiB")
    conn = ftp.transfercmd("RETR big.bin")
    conn.recv(1024)
    try:
        resp = ftp.abort()
        code = int(resp[:3])
        if code == 426:
            resp2 = ftp.getmultiline()
            check("ABOR during RETR: 426 then 226", resp2.startswith("226"), resp2)
        else:
            check("ABOR during RETR: 426 then 226", False, resp)
    except ftplib.Error as e:
        check("ABOR during RETR: 426 then 226", False, str(e))
    conn.close()
    expect(ftp, "NOOP", 200, name="session alive after ABOR")
    expect(ftp, "DELE big.bin", 250)

    # --- EPSV ALL.
    expect(ftp, "EPSV ALL", 200)
    expect(ftp, "PASV", 501, name="PASV after EPSV ALL")
    expect(ftp, "PORT %s,200,10" % h, 501, name="PORT after EPSV ALL")
    expect(ftp, "EPRT |1|%s|5000|" % me, 501, name="EPRT after EPSV ALL")
    expect(ftp, "EPSV", 229, name="EPSV after EPSV ALL")

    # Clean up.
    for f in ("b.txt", "t.txt", "e.txt"):
        raw(ftp, "DELE " + f)
    _, names = data_cmd(ftp, "NLST", 226, name="NLST for clean-up")
    for n in names.decode().split():
        raw(ftp, "DELE " + n)
    expect(ftp, "CWD ..", 250)
    expect(ftp, "RMD " + work, 250)
    expect(ftp, "QUIT", 221)

    # --- Three failed logins close the connection.
    ftp = connect(a)
    for i in range(3):
        expect(ftp, "USER " + a.user, 331, name="USER for failure %d" % (i + 1))
        expect(ftp, "PASS bad%d" % i, 530 if i < 2 else 421, name="failed login %d" % (i + 1))
    try:
        ftp.sock.settimeout(5)
        left = ftp.sock.recv(10)
        check("connection closed after 3 failures", left == b"", repr(left))
    except OSError:
        check("connection closed after 3 failures", True)
    ftp.close()

    # --- Anonymous.
    if a.anonymous != "no":
        ftp = connect(a)
        expect(ftp, "USER anonymous", 331)
        expect(ftp, "PASS guest@example.org", 230)
        if a.ro:
            _, got = data_cmd(ftp, "RETR %s/readme.txt" % a.ro, 226, name="anonymous RETR")
        if a.anonymous == "read":
            expect(ftp, "STOR %s/anon.txt" % a.rw, 550, name="anonymous READ may not upload")
        expect(ftp, "DELE %s/x" % a.rw, 550, name="anonymous may not delete")
        expect(ftp, "QUIT", 221)

    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
