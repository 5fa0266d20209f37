//! Charts and maps drawn as SVG on the server.
