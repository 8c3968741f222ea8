"""Linux input key codes to characters, for keyboard-wedge scanners (US layout; pure).

Codes are those of ``linux/input-event-codes.h``, the same numbers evdev reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EV_KEY = 1
KEY_ENTER, KEY_KPENTER = 28, 96
KEY_LEFTSHIFT, KEY_RIGHTSHIFT = 42, 54
KEY_LEFTCTRL, KEY_RIGHTCTRL = 29, 97
KEY_CAPSLOCK = 58
KEY_RIGHTBRACE = 27
GS = "\x1d"

# code: (plain, shifted)
_KEYS: dict[int, tuple[str, str]] = {
    2: ("1", "!"),
    3: ("2", "@"),
    4: ("3", "#"),
    5: ("4", "$"),
    6: ("5", "%"),
    7: ("6", "^"),
    8: ("7", "&"),
    9: ("8", "*"),
    10: ("9", "("),
    11: ("0", ")"),
    12: ("-", "_"),
    13: ("=", "+"),
    16: ("q", "Q"),
    17: ("w", "W"),
    18: ("e", "E"),
    19: ("r", "R"),
    20: ("t", "T"),
    21: ("y", "Y"),
    22: ("u", "U"),
    23: ("i", "I"),
    24: ("o", "O"),
    25: ("p", "P"),
    26: ("[", "{"),
    27: ("]", "}"),
    30: ("a", "A"),
    31: ("s", "S"),
    32: ("d", "D"),
    33: ("f", "F"),
    34: ("g", "G"),
    35: ("h", "H"),
    36: ("j", "J"),
    37: ("k", "K"),
    38: ("l", "L"),
    39: (";", ":"),
    40: ("'", '"'),
    41: ("`", "~"),
    43: ("\\", "|"),
    44: ("z", "Z"),
    45: ("x", "X"),
    46: ("c", "C"),
    47: ("v", "V"),
    48: ("b", "B"),
    49: ("n", "N"),
    50: ("m", "M"),
    51: (",", "<"),
    52: (".", ">"),
    53: ("/", "?"),
    57: (" ", " "),
    15: ("\t", "\t"),
    # keypad
    71: ("7", "7"),
    72: ("8", "8"),
    73: ("9", "9"),
    74: ("-", "-"),
    75: ("4", "4"),
    76: ("5", "5"),
    77: ("6", "6"),
    78: ("+", "+"),
    79: ("1", "1"),
    80: ("2", "2"),
    81: ("3", "3"),
    82: ("0", "0"),
    83: (".", "."),
    98: ("/", "/"),
    55: ("*", "*"),
}


@dataclass
class KeyDecoder:
    """Turns key events into lines: shift and caps lock, Ctrl+] as GS, Enter ends a line.

    ``gs_substitute`` is a character some scanners send in place of GS (configure the scanner
    and the agent alike); it becomes GS. A line longer than ``max_length`` is flagged overlong
    and its keys are dropped until Enter.
    """

    gs_substitute: str | None = None
    max_length: int = 512
    _shift: int = 0
    _ctrl: int = 0
    _caps: bool = False
    _chars: list[str] = field(default_factory=list)
    _overlong: int = 0

    def event(self, type_: int, code: int, value: int) -> str | int | None:
        """Feed one input event; a finished line (str), an overlong length (int), or None."""
        if type_ != EV_KEY:
            return None
        if code in (KEY_LEFTSHIFT, KEY_RIGHTSHIFT):
            self._shift = max(0, self._shift + (1 if value else -1)) if value != 2 else self._shift
            return None
        if code in (KEY_LEFTCTRL, KEY_RIGHTCTRL):
            self._ctrl = max(0, self._ctrl + (1 if value else -1)) if value != 2 else self._ctrl
            return None
        if value != 1:  # act on key down only; repeats and key-ups carry no new character
            return None
        if code == KEY_CAPSLOCK:
            self._caps = not self._caps
            return None
        if code in (KEY_ENTER, KEY_KPENTER):
            return self._finish()
        char = self._char(code)
        if char is None:
            return None
        if len(self._chars) >= self.max_length or self._overlong:
            self._overlong = max(self._overlong, len(self._chars)) + 1
            self._chars.clear()
            return None
        self._chars.append(char)
        return None

    def _char(self, code: int) -> str | None:
        if self._ctrl and code == KEY_RIGHTBRACE:
            return GS
        keys = _KEYS.get(code)
        if keys is None or self._ctrl:
            return None
        plain, shifted = keys
        upper = bool(self._shift) != (self._caps and plain.isalpha())
        char = shifted if upper else plain
        if self.gs_substitute and char == self.gs_substitute:
            return GS
        return char

    def _finish(self) -> str | int | None:
        if self._overlong:
            size, self._overlong = self._overlong, 0
            return size
        line = "".join(self._chars)
        self._chars.clear()
        return line or None
