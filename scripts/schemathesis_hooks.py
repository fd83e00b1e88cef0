"""schemathesis hooks for scripts/schemathesis.sh.

cargo lambda watch (the local emulator) answers a JSON-typed body that is not valid
UTF-8 with its own 500, before the function runs. API Gateway hands such bytes to the
function base64-encoded, and tests/properties.rs sends them that way through the real
handler; here they are left out so that schemathesis judges the function, not the
emulator.
"""

import schemathesis


def _is_utf8(body) -> bool:
    if isinstance(body, (bytes, bytearray)):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return False
    if isinstance(body, str):
        try:
            body.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return True


@schemathesis.hook
def filter_body(ctx, body):
    return _is_utf8(body)
