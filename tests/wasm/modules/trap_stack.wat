(module (func $f (export "_start") (call $f)))
