"""Labels: product, case and shelf (bin) labels as ZPL for thermal printers and as PDF, with
GS1-128 and GS1 DataMatrix symbols; downloaded, or sent to a network label printer."""
