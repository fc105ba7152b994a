"""hfcourse.execute"""
