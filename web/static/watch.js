// The watch script.
