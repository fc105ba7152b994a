"""hfcourse.export"""
