"""``voicecli serve``: the pipeline over WebSocket, with sessions that survive disconnects.

Protocol reference: docs/protocol.md. Modules: ``protocol`` (messages, close codes),
``session`` (what outlives a socket), ``bridge`` (loop <-> pipeline threads), ``outbox``
(bounded outgoing queue), ``connection`` (one attached socket), ``app`` (the server).
"""
