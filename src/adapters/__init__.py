"""I/O drivers for sansio-chat, installed as ``sansio_chat.adapters``.

Nothing here makes protocol decisions: the drivers run the session loop over httpx or h11.
"""
