# Lookups that never raise. regorus raises where OPA is quietly undefined (object.get on null, iterating or counting
# null), and the gate evaluates every rule of a package, helpers included, on every input, so rules read optional
# or nullable fields (most spec fields may be null) through these.
package mlgitops.lib.safe

# object.get, or `fallback` when x is not an object or the value is missing or null.
get(x, path, fallback) := value if {
	is_object(x)
	value := object.get(x, path, null)
	value != null
} else := fallback

# The array at path, or [] when it is missing, null or not an array.
list(x, path) := value if {
	value := get(x, path, [])
	is_array(value)
} else := []

# The objects of the array at path, skipping anything else.
items(x, path) := [item | some item in list(x, path); is_object(item)]

# The object at path, or {} when it is missing, null or not an object.
dict(x, path) := value if {
	value := get(x, path, {})
	is_object(value)
} else := {}

# The string at path, or "" when it is missing, null or not a string.
text(x, path) := value if {
	value := get(x, path, "")
	is_string(value)
} else := ""
