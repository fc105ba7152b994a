"""Course content: files in course/ → typed, validated objects."""

from .errors import ContentError, ContentErrors
from .loader import load_course, load_course_cached
from .model import Chapter, CodeExample, Course, KnowledgePoint, Section

__all__ = ["ContentError", "ContentErrors", "load_course", "load_course_cached", "Chapter", "CodeExample",
           "Course", "KnowledgePoint", "Section"]
