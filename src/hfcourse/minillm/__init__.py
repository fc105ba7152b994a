"""hfcourse.minillm"""
