"""Use cases. Async where they touch the network, Qt-free, tested with fakes of the ports."""
