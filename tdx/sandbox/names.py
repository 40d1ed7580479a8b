"""Word lists for the generated tenant (made up; any resemblance is coincidental)."""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "Aaliyah Aaron Abigail Adam Aisha Alejandro Alex Alice Amir Ana Andre Angela Anika Ben "
    "Bianca Brandon Caleb Camila Carlos Carmen Chen Chloe Chris Daniel Deepa Derek Diana "
    "Dmitri Elena Eli Emily Emma Ethan Fatima Felix Fiona Gabriel Grace Hannah Hiro Ian Imani "
    "Isaac Isabel Jack Jamal Jasmine Javier Jenna Joanna Jonah Jordan Jose Joshua Julia Kai "
    "Karen Kevin Kim Laila Laura Leo Liam Lina Logan Lucia Luis Maya Mei Mia Michael Miguel "
    "Mina Nadia Nathan Nia Noah Olivia Omar Oscar Pat Patricia Priya Quinn Rachel Rafael Ravi "
    "Rosa Ryan Sam Sara Sean Sofia Sophie Tariq Tess Theo Tomas Uma Victor Wei Will Yara "
    "Yusuf Zoe"
)

LAST_NAMES = _words(
    "Abbott Adams Ahmed Alvarez Anderson Baker Banerjee Bell Brooks Brown Campbell Castillo "
    "Chen Clark Collins Cooper Cruz Davis Diaz Edwards Evans Fischer Flores Foster Garcia "
    "Gonzalez Gordon Gray Green Gupta Hall Harris Hayes Hernandez Hill Ito Jackson James "
    "Jensen Johnson Jones Kang Kaur Kelly Khan Kim King Kowalski Lee Lewis Lin Lopez Martin "
    "Martinez Mehta Miller Mitchell Moore Morgan Murphy Nakamura Nelson Nguyen Novak O'Neil "
    "Okafor Ortiz Park Patel Perez Peterson Phillips Price Ramirez Reed Reyes Rivera Roberts "
    "Robinson Rodriguez Rossi Russell Sanchez Schmidt Scott Shah Singh Smith Stewart Sullivan "
    "Tanaka Taylor Thomas Thompson Torres Turner Walker Wang Ward Watson White Williams "
    "Wilson Wright Wu Yamamoto Young Zhang"
)

# (code, unit, name, building code of its main location)
DEPARTMENTS = (
    ("CHEM", "LSA", "Chemistry", "EH"),
    ("PSYCH", "LSA", "Psychology", "EH"),
    ("MATH", "LSA", "Mathematics", "EH"),
    ("PHYS", "LSA", "Physics", "RH"),
    ("HIST", "LSA", "History", "TH"),
    ("ECON", "LSA", "Economics", "LH"),
    ("BIO", "LSA", "Molecular Biology", "BSB"),
    ("RAD", "MED", "Radiology", "MSI"),
    ("PEDS", "MED", "Pediatrics", "MSI"),
    ("PATH", "MED", "Pathology", "MSII"),
    ("EECS", "ENG", "Electrical Engineering & Computer Science", "BBB"),
    ("ME", "ENG", "Mechanical Engineering", "GGB"),
    ("FIN", "BUS", "Finance", "RSB"),
    ("MKT", "BUS", "Marketing", "RSB"),
    ("LIB", "LIB", "University Library", "HL"),
    ("ITS", "ITS", "Information Technology Services", "NCRC"),
    ("NURS", "NUR", "Nursing", "NIB"),
    ("SPH", "SPH", "Public Health", "SPH"),
)

# building code -> building name
BUILDINGS = {
    "EH": "East Hall",
    "RH": "Randall Hall",
    "TH": "Tisch Hall",
    "LH": "Lorch Hall",
    "BSB": "Biological Sciences Building",
    "MSI": "Medical Science I",
    "MSII": "Medical Science II",
    "BBB": "Beyster Building",
    "GGB": "G. G. Brown Laboratory",
    "RSB": "Ross School Building",
    "HL": "Hatcher Library",
    "NCRC": "North Campus Research Complex",
    "NIB": "Nursing Instruction Building",
    "SPH": "School of Public Health",
}

# (manufacturer, model, kind, serial style)
COMPUTER_MODELS = (
    ("Apple", "MacBook Pro 14-inch (M3)", "laptop", "apple"),
    ("Apple", "MacBook Air 13-inch (M2)", "laptop", "apple"),
    ("Apple", "iMac 24-inch (M3)", "desktop", "apple"),
    ("Apple", "Mac mini (M2)", "desktop", "apple"),
    ("Dell", "OptiPlex 7010", "desktop", "dell"),
    ("Dell", "OptiPlex 7000 Micro", "desktop", "dell"),
    ("Dell", "Latitude 7440", "laptop", "dell"),
    ("Dell", "Precision 3660 Tower", "desktop", "dell"),
    ("Lenovo", "ThinkPad T14 Gen 4", "laptop", "lenovo"),
    ("Lenovo", "ThinkCentre M70q", "desktop", "lenovo"),
    ("HP", "EliteDesk 800 G6", "desktop", "hp"),
    ("HP", "EliteBook 840 G8", "laptop", "hp"),
)

OTHER_MODELS = (
    ("Dell", "P2422H Monitor", "monitor", "dell-monitor"),
    ("HP", "LaserJet Pro M404dn", "printer", "hp-printer"),
    ("Cisco", "Catalyst 9200 Switch", "network", "cisco"),
)

SUPPLIERS = ("CDW", "Dell Direct", "Apple Education", "SHI", "Insight")

TECH_TITLES = ("Desktop Support Technician", "Senior Desktop Support Specialist", "IT Analyst")
STAFF_TITLES = (
    "Professor",
    "Associate Professor",
    "Lecturer",
    "Graduate Student Instructor",
    "Research Fellow",
    "Administrative Assistant",
    "Lab Manager",
    "Department Administrator",
    "Research Scientist",
    "Academic Advisor",
)

# Lab templates: (department code, lab kind, room, number of computers)
LABS = (
    ("CHEM", "Teaching Lab", "1810", 20),
    ("PSYCH", "Research Lab", "2004", 12),
    ("MATH", "Computing Lab", "B735", 16),
    ("PHYS", "Instrument Lab", "1420", 8),
    ("BIO", "Imaging Lab", "3130", 10),
    ("RAD", "Reading Room", "B1-120", 9),
    ("EECS", "Embedded Systems Lab", "2334", 18),
    ("ECON", "Behavioral Lab", "G140", 14),
    ("LIB", "Digital Scholarship Lab", "206", 12),
    ("NURS", "Simulation Lab", "1120", 8),
)
