//! mkbuild-engine
