"""Live channel connections: one small adapter per channel (Shopify, WooCommerce, Amazon, eBay).

Each adapter turns its channel's API answers into the ingestion service's ``OrderData``; the sync
engine (``services/channel_sync.py``) drives it, saves the cursor with each page's orders in one
transaction, and never lets two syncs of one connection run at once. See ``base.ChannelAdapter``.
"""
