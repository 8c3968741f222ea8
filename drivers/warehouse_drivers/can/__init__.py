"""CAN-bus barcode scanners: the frame layout in ``scanner.dbc``, reassembly, the driver."""
