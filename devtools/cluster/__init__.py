"""`make cluster`: the multi-host topology on one machine (topology.py, proxy.py)."""
