"""hfcourse.check"""
