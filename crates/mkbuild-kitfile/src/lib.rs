//! mkbuild-kitfile
