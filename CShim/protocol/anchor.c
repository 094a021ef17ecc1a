int moor_protocol_anchor;
