//! mkbuild-sdk
