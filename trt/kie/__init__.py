"""KIE.ai adapter: the port (`base`), its httpx client, wire parsing and callbacks.

The local stand-ins (the emulator server, its sample files, `FakeKie`) live in
`trt.sandbox.kie`; nothing here imports them. Import the pieces from their modules; this
package import stays light (no httpx) so that `trt --help` does not pay for it.
"""
