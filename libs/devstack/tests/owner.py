"""Owns embedded infrastructure in the data folder given as argument until its stdin closes or it
is stopped; prints the broker's address once everything is up."""

import sys
from pathlib import Path

from attain_devstack.stack import infrastructure

with infrastructure(Path(sys.argv[1])) as servers:
    print(servers.kafka_bootstrap, flush=True)
    sys.stdin.read()
