"""The seed's own CurlMulti examples (shared/seed/pycurl-CurlMulti.txt), run
with Debian's python3-pycurl: the fdset() + select.select loop, the
m.select(1.0) loop, and info_read() with successes and failures. Every body
is checked. Prints facts only; the runner compares a stock run with a
preloaded one.

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


def main():
    try:
        curlmux = ctypes.CDLL(None).curlmux_version
        curlmux.restype = ctypes.c_char_p
        print("curlmux in use:", curlmux().decode(), file=sys.stderr)
        using = True
    except AttributeError:
        using = False
    print("curlmux" if using else "stock", file=sys.stderr)
    for name, loop in [("fdset + select.select", fdset_select_loop), ("m.select(1.0)", m_select_loop)]:
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
    # The marker the runner checks, on stderr so stdout stays comparable.
    print("USING_CURLMUX" if using else "USING_STOCK", file=sys.stderr)


main()
