#!/usr/bin/python3
# The Mininet side of lab_bench: a star of N hosts on one LinuxBridge switch, no controller.
# Prints {"up": seconds, "down": seconds} as JSON. Run as root, inside lab_bench's sandbox.
#   mininet_star.py N
import json
import sys
import time

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import SingleSwitchTopo

setLogLevel("error")
n = int(sys.argv[1])
t0 = time.monotonic()
net = Mininet(topo=SingleSwitchTopo(n), switch=LinuxBridge, controller=None, autoSetMacs=True)
net.start()
t1 = time.monotonic()
net.stop()
t2 = time.monotonic()
print(json.dumps({"up": t1 - t0, "down": t2 - t1}))
