//! mkbuild-tar
