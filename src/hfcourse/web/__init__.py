"""hfcourse.web"""
