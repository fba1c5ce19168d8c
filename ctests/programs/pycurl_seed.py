"""The seed's own CurlMulti examples (shared/seed/pycurl-CurlMulti.txt), run
with Debian's python3-pycurl or a pip-installed one: the fdset() +
select.select loop, the m.select(1.0) loop, and info_read() with successes
and failures; then a socket_action loop on the socket and timer callbacks,
and both close orders (easies closed while attached, then the multi; the
multi closed while easies are attached, then the easies). Every body is
checked. Prints facts only; the runner compares a stock run with a preloaded
one.

usage: pycurl_seed.py BASE_URL CLOSED_PORT TRANSFERS
"""
import ctypes
import io
import select
import sys

import pycurl

BASE, CLOSED_PORT, N = sys.argv[1], sys.argv[2], int(sys.argv[3])


def pattern(n):
    alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789"
    return (alphabet * (n // 36 + 1))[:n]


def plan():
    """(url, expected body or None for failures, expected error code)"""
    out = []
    for i in range(N):
        size = [0, 1, 4000, 65536, 300000][i % 5]
        if i % 10 == 3:
            out.append((f"{BASE}/trickle/{size}/4/200", pattern(size), 0))
        elif i % 10 == 7:
            out.append((f"{BASE}/reset/{1000 + i}", None, pycurl.E_PARTIAL_FILE))
        elif i % 25 == 24:
            out.append((f"http://127.0.0.1:{CLOSED_PORT}/bytes/1", None, pycurl.E_COULDNT_CONNECT))
        else:
            out.append((f"{BASE}/delay/{i % 100}/{size}", pattern(size), 0))
    return out


def handles(m, urls):
    cs = []
    for url, body, err in urls:
        c = pycurl.Curl()
        c.buf = io.BytesIO()
        c.expect = (body, err)
        c.setopt(pycurl.URL, url)
        c.setopt(pycurl.WRITEDATA, c.buf)
        c.setopt(pycurl.TIMEOUT, 60)
        m.add_handle(c)
        cs.append(c)
    return cs


def collect(m, seen):
    """The seed's info_read: successes, and failures with their error."""
    while True:
        queued, ok, failed = m.info_read()
        for c in ok:
            assert c.expect[1] == 0, (c.getinfo(pycurl.EFFECTIVE_URL), "succeeded")
            assert c.buf.getvalue() == c.expect[0], c.getinfo(pycurl.EFFECTIVE_URL)
            seen["ok"] += 1
        for c, errno, errmsg in failed:
            assert errno == c.expect[1], (c.getinfo(pycurl.EFFECTIVE_URL), errno, errmsg)
            seen[f"error {errno}"] = seen.get(f"error {errno}", 0) + 1
        if queued == 0:
            return


def fdset_select_loop(m, seen):
    while 1:
        ret, num_handles = m.perform()
        if ret != pycurl.E_CALL_MULTI_PERFORM:
            break
    while num_handles:
        select.select(*m.fdset(), 1)
        while 1:
            ret, num_handles = m.perform()
            if ret != pycurl.E_CALL_MULTI_PERFORM:
                break
        collect(m, seen)
    collect(m, seen)


def m_select_loop(m, seen):
    while 1:
        ret, num_handles = m.perform()
        if ret != pycurl.E_CALL_MULTI_PERFORM:
            break
    while num_handles:
        ret = m.select(1.0)
        if ret == -1:
            continue
        while 1:
            ret, num_handles = m.perform()
            if ret != pycurl.E_CALL_MULTI_PERFORM:
                break
        collect(m, seen)
    collect(m, seen)


def socket_action_loop(m, seen):
    """An event loop on pycurl's socket and timer callbacks."""
    watched, timer = {}, [0]

    def on_socket(what, sock, multi, socketp):
        if what == pycurl.POLL_REMOVE:
            watched.pop(sock, None)
        else:
            watched[sock] = what

    def on_timer(ms):
        timer[0] = ms

    m.setopt(pycurl.M_SOCKETFUNCTION, on_socket)
    m.setopt(pycurl.M_TIMERFUNCTION, on_timer)
    running = N
    ret, running = m.socket_action(pycurl.SOCKET_TIMEOUT, 0)
    while running:
        rd = [s for s, w in watched.items() if w & pycurl.POLL_IN]
        wr = [s for s, w in watched.items() if w & pycurl.POLL_OUT]
        wait = 1.0 if timer[0] < 0 else min(timer[0] / 1000.0, 1.0)
        r, w, _ = select.select(rd, wr, [], wait)
        if not r and not w:
            ret, running = m.socket_action(pycurl.SOCKET_TIMEOUT, 0)
        for s in set(r) | set(w):
            bits = (pycurl.CSELECT_IN if s in r else 0) | (pycurl.CSELECT_OUT if s in w else 0)
            ret, running = m.socket_action(s, bits)
        collect(m, seen)
    collect(m, seen)


def close_orders():
    """Easies closed while attached, then the multi; and the reverse."""
    out = []
    for easy_first in (True, False):
        m = pycurl.CurlMulti()
        cs = handles(m, plan()[:10])
        seen = {"ok": 0}
        m_select_loop(m, seen)
        if easy_first:
            for c in cs:
                c.close()
            m.close()
        else:
            m.close()
            for c in cs:
                c.close()
        out.append(("easies first" if easy_first else "multi first", sorted(seen.items())))
    return out


def main():
    try:
        curlmux = ctypes.CDLL(None).curlmux_version
        curlmux.restype = ctypes.c_char_p
        print("curlmux in use:", curlmux().decode(), file=sys.stderr)
        using = True
    except AttributeError:
        using = False
    print("curlmux" if using else "stock", file=sys.stderr)
    loops = [("fdset + select.select", fdset_select_loop), ("m.select(1.0)", m_select_loop)]
    loops.append(("socket_action", socket_action_loop))
    for name, loop in loops:
        m = pycurl.CurlMulti()
        cs = handles(m, plan())
        seen = {"ok": 0}
        loop(m, seen)
        for c in cs:
            m.remove_handle(c)
            c.close()
        m.close()
        assert sum(seen.values()) == N, seen
        print(name, sorted(seen.items()))
    for name, seen in close_orders():
        print("close", name, seen)
    # The marker the runner checks, on stderr so stdout stays comparable.
    print("USING_CURLMUX" if using else "USING_STOCK", file=sys.stderr)


main()
