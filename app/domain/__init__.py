"""Pure domain: identifiers, validation, money and the ports adapters implement.

Nothing here performs I/O or imports Qt, web3 or SQLAlchemy.
"""
