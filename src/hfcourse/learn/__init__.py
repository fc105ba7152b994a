"""hfcourse.learn"""
