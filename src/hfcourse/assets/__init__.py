"""hfcourse.assets"""
