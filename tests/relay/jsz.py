#!/usr/bin/env python3
"""jsz.py - reads a nats-server's monitoring endpoint (/jsz) for the relay tests.
  jsz.py PORT meta           the JetStream meta leader's server name ("" if none)
  jsz.py PORT stream NAME    the stream's leader ("" if none or unknown)
  jsz.py free-ports N        N free loopback TCP ports
"""
import json
import socket
import sys
import urllib.request


def jsz(port, query=""):
    url = "http://127.0.0.1:%s/jsz%s" % (port, query)
    with urllib.request.urlopen(url, timeout=2) as r:
        return json.load(r)


def main():
    if sys.argv[1] == "free-ports":
        socks = []
        for _ in range(int(sys.argv[2])):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        print(" ".join(str(s.getsockname()[1]) for s in socks))
        return
    try:
        if sys.argv[2] == "meta":
            print(jsz(sys.argv[1]).get("meta_cluster", {}).get("leader", ""))
            return
        d = jsz(sys.argv[1], "?accounts=true&streams=true")
        for acc in d.get("account_details", []):
            for st in acc.get("stream_detail", []):
                if st.get("name") == sys.argv[3]:
                    print(st.get("cluster", {}).get("leader", ""))
                    return
        print("")
    except OSError:
        print("")


main()
