"""Phone numbers in, E.164 out (phonenumbers: Google's libphonenumber rules)."""

import re

import phonenumbers

# libphonenumber reads letters as keypad digits ("0788-BAD-NUM" → 0788-223-686): a typo or a
# placeholder would become somebody else's number. Letters are refused before parsing.
LETTERS = re.compile(r"[^\W\d_]")


def phone_normalise(raw: str, *, region: str) -> str:
    """E.164 for `raw` (local numbers read in `region`); ValueError with a reason otherwise."""
    text = (raw or "").strip()
    if not text:
        raise ValueError("empty phone number")
    if LETTERS.search(text):
        raise ValueError("letters in a phone number (only digits, spaces, + - . ( ) are read)")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region.upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number ({exc.error_type})") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
