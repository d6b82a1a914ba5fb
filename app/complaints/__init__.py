"""Complaints: lifecycle, priority and handling of motor-insurance claim complaints."""
