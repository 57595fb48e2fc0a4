"""The services' server side as pure logic, for the emulator (no I/O here)."""
