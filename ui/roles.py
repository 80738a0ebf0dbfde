"""The item-data roles, beyond Qt's own, that the library's models fill and its views read."""

from PySide6.QtCore import Qt

ItemRole = Qt.ItemDataRole.UserRole + 1  # the ReviewItem of a file's row
ChipsRole = Qt.ItemDataRole.UserRole + 2  # list[Chip]: what the Suggested column paints
