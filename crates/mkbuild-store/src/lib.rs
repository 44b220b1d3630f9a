//! mkbuild-store
